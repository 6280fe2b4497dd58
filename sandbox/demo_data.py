"""CRM demo records modelled on Odoo's demo database: companies, users, stages, tags and leads."""

from __future__ import annotations

from dataclasses import dataclass

ADMIN_ID = 2
DEMO_ID = 6

# Rows per table, as (column names, rows). Ids follow Odoo's demo database where it is known
# (admin is user 2, the demo user is user 6).
REFERENCE_ROWS: dict[str, tuple[tuple[str, ...], list[tuple]]] = {
    "res_currency": (("id", "name", "symbol", "active"), [(1, "EUR", "€", 1), (2, "USD", "$", 1)]),
    "res_country": (
        ("id", "name", "code"),
        [
            (1, "Belgium", "BE"),
            (2, "France", "FR"),
            (3, "United Kingdom", "GB"),
            (4, "Australia", "AU"),
            (5, "Venezuela", "VE"),
            (6, "United States", "US"),
        ],
    ),
    "res_country_state": (
        ("id", "name", "code", "country_id"),
        [(1, "Illinois", "IL", 6), (2, "Victoria", "VIC", 4), (3, "Gironde", "33", 2)],
    ),
    "res_lang": (
        ("id", "name", "code", "active"),
        [(1, "English (US)", "en_US", 1), (2, "French / Français", "fr_FR", 1), (3, "Spanish (VE) / Español (VE)", "es_VE", 1)],
    ),
    "res_partner_title": (
        ("id", "name", "shortcut"),
        [(1, "Madam", "Mrs."), (2, "Miss", "Miss"), (3, "Mister", "Mr."), (4, "Doctor", "Dr."), (5, "Professor", "Prof.")],
    ),
    "res_company": (
        ("id", "name", "sequence", "currency_id", "partner_id"),
        [(1, "YourCompany", 0, 2, 1), (2, "My Company (Chicago)", 10, 2, 5)],
    ),
    "res_partner": (
        ("id", "name", "is_company", "parent_id", "email", "phone", "city", "country_id", "company_id", "active"),
        [
            (1, "YourCompany", 1, None, "info@yourcompany.example.com", "+1 555-555-5556", "Tracy", 6, 1, 1),
            (2, "OdooBot", 0, None, "odoobot@example.com", None, None, None, None, 0),
            (3, "Mitchell Admin", 0, None, "admin@yourcompany.example.com", "+1 555-555-5555", "Tracy", 6, 1, 1),
            (4, "Marc Demo", 0, None, "mark.brown23@example.com", "+1 555-555-5557", "Tracy", 6, 1, 1),
            (5, "My Company (Chicago)", 1, None, "chicago@yourcompany.example.com", "+1 312 349 3030", "Chicago", 6, 2, 1),
            (10, "Deco Addict", 1, None, "deco_addict@example.com", "+32 2 290 34 90", "Wavre", 1, None, 1),
            (11, "Azure Interior", 1, None, "azure.Interior24@example.com", "+1 870-931-0505", "Fremont", 6, None, 1),
            (12, "Ready Mat", 1, None, "ready.mat28@example.com", "+1 855-955-0707", "Tracy", 6, None, 1),
            (13, "Gemini Furniture", 1, None, "gemini.furniture39@example.com", "+1 405-555-1234", "Fairfield", 6, None, 1),
            (14, "Lumber Inc", 1, None, "lumber-inv92@example.com", "+1 555-555-1212", "Stockton", 6, None, 1),
            (15, "Wood Corner", 1, None, "wood.corner26@example.com", "+1 555-789-0123", "Melbourne", 4, None, 1),
            (16, "The Jackson Group", 1, None, "jackson.group82@example.com", "+1 555-555-6969", "Manchester", 3, None, 1),
            (20, "Douglas Fletcher", 0, 10, "douglas.fletcher51@example.com", "+32 2 290 34 91", "Wavre", 1, None, 1),
            (21, "Brandon Freeman", 0, 11, "brandon.freeman55@example.com", "+1 870-931-0506", "Fremont", 6, None, 1),
            (22, "Colleen Diaz", 0, 11, "colleen.diaz83@example.com", "+1 870-931-0507", "Fremont", 6, None, 1),
            (23, "Edwin Hansen", 0, 13, "edwin.hansen58@example.com", "+1 405-555-1235", "Fairfield", 6, None, 1),
            (24, "Jeff Lawson", 0, 12, "jeff.lawson52@example.com", "+1 855-955-0708", "Tracy", 6, None, 1),
        ],
    ),
    "res_users": (
        ("id", "name", "login", "email", "active", "share", "partner_id", "company_id", "crm_access"),
        [
            (1, "OdooBot", "__system__", "odoobot@example.com", 0, 0, 2, 1, "all"),
            (ADMIN_ID, "Mitchell Admin", "admin", "admin@yourcompany.example.com", 1, 0, 3, 1, "all"),
            # NOTE: the demo user sees only its own and unassigned leads here ("Sales / User:
            # Own Documents Only"), so tests can watch leads leave a user's view.
            (DEMO_ID, "Marc Demo", "demo", "mark.brown23@example.com", 1, 0, 4, 1, "own"),
        ],
    ),
    "res_company_users_rel": (("user_id", "cid"), [(1, 1), (1, 2), (ADMIN_ID, 1), (ADMIN_ID, 2), (DEMO_ID, 1)]),
    "crm_team": (
        ("id", "name", "sequence", "active", "user_id", "company_id"),
        [(1, "Sales", 10, 1, ADMIN_ID, 1), (2, "Pre-Sales", 20, 1, DEMO_ID, 1)],
    ),
    "crm_stage": (
        ("id", "name", "sequence", "is_won", "fold"),
        [(1, "New", 1, 0, 0), (2, "Qualified", 2, 0, 0), (3, "Proposition", 3, 0, 0), (4, "Won", 70, 1, 0)],
    ),
    "crm_tag": (
        ("id", "name", "color"),
        [
            (1, "Product", 1),
            (2, "Software", 2),
            (3, "Services", 3),
            (4, "Information", 4),
            (5, "Design", 5),
            (6, "Training", 6),
            (7, "Consulting", 7),
            (8, "Other", 8),
        ],
    ),
    "crm_lost_reason": (
        ("id", "name", "active"),
        [(1, "Too expensive", 1), (2, "We don't have people/skills", 1), (3, "Not enough stock", 1)],
    ),
    "utm_campaign": (("id", "name"), [(1, "Sale"), (2, "Christmas Special"), (3, "Email Campaign - Services")]),
    "utm_medium": (("id", "name"), [(1, "Website"), (2, "Phone"), (3, "Direct"), (4, "Email"), (5, "Banner")]),
    "utm_source": (
        ("id", "name"),
        [(1, "Search engine"), (2, "Lead Recall"), (3, "Newsletter"), (4, "Facebook"), (5, "LinkedIn")],
    ),
}

# Demo passwords; the logins are `admin` and `demo`.
PASSWORDS = {ADMIN_ID: "admin", DEMO_ID: "demo"}

NEW, QUALIFIED, PROPOSITION, WON = 1, 2, 3, 4
SALES, PRE_SALES = 1, 2
PARIS, BORDEAUX, MANCHESTER, OXFORD, MELBOURNE, WAVRE, LIVERPOOL, CARACAS, CHICAGO = (
    ("Paris", 2, None),
    ("Bordeaux", 2, 3),
    ("Manchester", 3, None),
    ("Oxford", 3, None),
    ("Melbourne", 4, 2),
    ("Wavre", 1, None),
    ("Liverpool", 3, None),
    ("Caracas", 5, None),
    ("Chicago", 6, 1),
)


@dataclass(frozen=True)
class DemoLead:
    """One demo lead; day offsets are relative to the seeding time."""

    name: str
    type: str = "lead"
    stage: int = NEW
    user: int | None = ADMIN_ID
    team: int | None = SALES
    partner: int | None = None
    partner_name: str | None = None
    contact_name: str | None = None
    function: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    title: int | None = None
    website: str | None = None
    street: str | None = None
    zip: str | None = None
    place: tuple = PARIS
    revenue: float = 0.0
    probability: float = 10.0
    priority: str = "0"
    tags: tuple[int, ...] = ()
    company: int = 1
    campaign: int | None = None
    medium: int | None = None
    source: int | None = None
    created_days_ago: float = 10.0
    deadline_in_days: int | None = None
    lost_reason: int | None = None
    description: str | None = None


DEMO_LEADS: list[DemoLead] = [
    # Twelve leads in New; four of them lost, three unassigned.
    DemoLead("Interest in your products", partner_name="Le Bon Vin", contact_name="Louis Bernard", function="Buyer",
             email="louis.bernard@example.com", phone="+33 1 25 54 45 69", title=3, place=PARIS,
             tags=(1,), medium=1, source=1, created_days_ago=3, description="<p>Wants the catalogue and prices.</p>"),
    DemoLead("Need a price list", partner_name="Chateau Margaux Trading", contact_name="Camille Girard",
             email="camille.girard@example.com", phone="+33 5 56 12 34 56", place=BORDEAUX, tags=(4,),
             user=DEMO_ID, team=PRE_SALES, created_days_ago=5),
    DemoLead("Office Design Project", partner_name="Northern Office Supply", contact_name="Harry Walsh",
             function="Facility Manager", email="harry.walsh@example.co.uk", phone="+44 161 496 0231",
             place=MANCHESTER, tags=(5, 7), created_days_ago=8, priority="1"),
    DemoLead("Access to Online Catalog", partner_name="Bodleian Books", contact_name="Emily Clarke",
             email="emily.clarke@example.org", phone="+44 1865 277 000", place=OXFORD, user=None, team=None,
             created_days_ago=1, source=3),
    DemoLead("Plan to Attend a Training", contact_name="Olivia Nguyen", email="olivia.nguyen@example.com.au",
             mobile="+61 3 9654 1234", place=MELBOURNE, tags=(6,), user=None, team=None, created_days_ago=2),
    DemoLead("Quote for 600 Chairs", partner=20, partner_name="Deco Addict", contact_name="Douglas Fletcher",
             email="douglas.fletcher51@example.com", phone="+32 2 290 34 91", place=WAVRE, tags=(1,),
             user=DEMO_ID, team=PRE_SALES, created_days_ago=6, priority="2"),
    DemoLead("Need info about your services", partner_name="Mersey Logistics", contact_name="Jack Evans",
             email="jack.evans@example.net", phone="+44 151 496 0522", place=LIVERPOOL, tags=(3, 4),
             created_days_ago=4),
    DemoLead("Distributor Contract", partner_name="Distribuidora Caracas", contact_name="Andrés Pérez",
             email="andres.perez@example.com", phone="+58 212 555 0147", place=CARACAS, user=None, team=None,
             created_days_ago=12),
    DemoLead("Cheap furniture for a student flat", contact_name="Lucas Martin", email="lucas.martin@example.com",
             place=PARIS, created_days_ago=30, lost_reason=1),
    DemoLead("Custom software for a bakery", partner_name="Boulangerie Dupont", contact_name="Marie Dupont",
             email="marie.dupont@example.fr", phone="+33 5 57 00 12 12", place=BORDEAUX, tags=(2,),
             created_days_ago=25, lost_reason=2),
    DemoLead("500 office lamps, delivery next week", partner_name="Liverpool Lights", contact_name="Sophie Hall",
             email="sophie.hall@example.co.uk", place=LIVERPOOL, created_days_ago=21, lost_reason=3, user=DEMO_ID,
             team=PRE_SALES),
    # A lead with no email, phone or partner: those fields read as false.
    DemoLead("Call back a visitor from the trade fair", contact_name="Unknown visitor", place=CARACAS,
             created_days_ago=18, lost_reason=1),
    # Sixteen opportunities across New, Qualified and Proposition; three won and one lost.
    DemoLead("Office Design and Architecture", type="opportunity", stage=NEW, partner=21,
             partner_name="Azure Interior", contact_name="Brandon Freeman", email="brandon.freeman55@example.com",
             phone="+1 870-931-0506", place=CHICAGO, revenue=9000, probability=20, tags=(5,), created_days_ago=9,
             deadline_in_days=30),
    DemoLead("Global Solutions: Furnitures", type="opportunity", stage=NEW, partner=13,
             partner_name="Gemini Furniture", contact_name="Edwin Hansen", email="edwin.hansen58@example.com",
             phone="+1 405-555-1235", place=MANCHESTER, revenue=3800, probability=10, tags=(1,), user=DEMO_ID,
             team=PRE_SALES, created_days_ago=14, deadline_in_days=21),
    DemoLead("Modern Open Space", type="opportunity", stage=QUALIFIED, partner=10, partner_name="Deco Addict",
             email="deco_addict@example.com", phone="+32 2 290 34 90", place=WAVRE, revenue=4500, probability=30,
             tags=(5, 1), created_days_ago=16, deadline_in_days=14, priority="1"),
    DemoLead("Open Space Design", type="opportunity", stage=QUALIFIED, partner=22, partner_name="Azure Interior",
             contact_name="Colleen Diaz", email="colleen.diaz83@example.com", phone="+1 870-931-0507",
             place=OXFORD, revenue=11000, probability=40, tags=(5,), created_days_ago=20, deadline_in_days=25),
    DemoLead("Furnitures for the new headquarters", type="opportunity", stage=QUALIFIED, partner=16,
             partner_name="The Jackson Group", email="jackson.group82@example.com", phone="+44 161 496 0800",
             place=MANCHESTER, revenue=25000, probability=50, tags=(1, 3), user=DEMO_ID, team=PRE_SALES,
             created_days_ago=22, deadline_in_days=40, priority="2"),
    DemoLead("Need 20 Desks", type="opportunity", stage=PROPOSITION, partner=12, partner_name="Ready Mat",
             contact_name="Jeff Lawson", email="jeff.lawson52@example.com", phone="+1 855-955-0708",
             place=CHICAGO, revenue=6000, probability=70, tags=(1,), created_days_ago=26, deadline_in_days=7),
    DemoLead("Customizable Desk", type="opportunity", stage=PROPOSITION, partner=14, partner_name="Lumber Inc",
             email="lumber-inv92@example.com", phone="+1 555-555-1212", place=LIVERPOOL, revenue=15000,
             probability=80, tags=(1, 5), created_days_ago=28, deadline_in_days=10, priority="3"),
    DemoLead("Consulting for a new ERP", type="opportunity", stage=PROPOSITION, partner=15,
             partner_name="Wood Corner", email="wood.corner26@example.com", phone="+61 3 9654 0000",
             place=MELBOURNE, revenue=60000, probability=90, tags=(7, 2), created_days_ago=35, deadline_in_days=5,
             priority="2", campaign=3, medium=4, source=3),
    DemoLead("Training for the sales team", type="opportunity", stage=NEW, partner_name="Paris Formation",
             contact_name="Julie Petit", email="julie.petit@example.fr", phone="+33 1 25 54 45 70", place=PARIS,
             revenue=2500, probability=15, tags=(6,), created_days_ago=7, deadline_in_days=45),
    DemoLead("Information kiosk for a museum", type="opportunity", stage=QUALIFIED, partner_name="Musée de Wavre",
             email="contact@musee.example.be", phone="+32 10 22 33 44", place=WAVRE, revenue=18000,
             probability=35, tags=(4, 2), user=DEMO_ID, team=PRE_SALES, created_days_ago=19, deadline_in_days=35),
    DemoLead("Design a showroom", type="opportunity", stage=PROPOSITION, partner_name="Caracas Design Studio",
             email="hola@design.example.com", phone="+58 212 555 0199", place=CARACAS, revenue=32000,
             probability=60, tags=(5,), created_days_ago=24, deadline_in_days=20),
    # An opportunity with no email, phone or partner.
    DemoLead("Walk-in request for a quotation", type="opportunity", stage=NEW, place=OXFORD, revenue=1000,
             probability=10, created_days_ago=4),
    DemoLead("DeltaPC: 10 Computer Desks", type="opportunity", stage=WON, partner=11,
             partner_name="Azure Interior", email="azure.Interior24@example.com", phone="+1 870-931-0505",
             place=CHICAGO, revenue=35000, probability=100, tags=(1,), created_days_ago=40, deadline_in_days=-5),
    DemoLead("Quote for 12 Tables", type="opportunity", stage=WON, partner=23, partner_name="Gemini Furniture",
             contact_name="Edwin Hansen", email="edwin.hansen58@example.com", place=BORDEAUX, revenue=40000,
             probability=100, tags=(1, 5), user=DEMO_ID, team=PRE_SALES, created_days_ago=45, deadline_in_days=-10),
    DemoLead("Software licences renewal", type="opportunity", stage=WON, partner=16,
             partner_name="The Jackson Group", email="jackson.group82@example.com", place=MANCHESTER,
             revenue=12000, probability=100, tags=(2,), created_days_ago=50, deadline_in_days=-20),
    DemoLead("Office chairs for the call centre", type="opportunity", stage=QUALIFIED, partner=12,
             partner_name="Ready Mat", email="ready.mat28@example.com", place=LIVERPOOL, revenue=8000,
             probability=0, tags=(1,), created_days_ago=33, deadline_in_days=-3, lost_reason=1),
    # Three leads of the second company, in Chicago.
    DemoLead("Chicago: conference room furniture", type="opportunity", stage=QUALIFIED, company=2,
             partner_name="Lakeshore Events", contact_name="Michael Brown", email="michael.brown@example.com",
             phone="+1 312 555 0101", place=CHICAGO, revenue=14000, probability=40, team=None,
             created_days_ago=11, deadline_in_days=18),
    DemoLead("Chicago: website redesign", company=2, partner_name="Windy City Bikes", contact_name="Sarah Miller",
             email="sarah.miller@example.com", phone="+1 312 555 0102", place=CHICAGO, team=None, tags=(5, 2),
             created_days_ago=6),
    DemoLead("Chicago: IT support contract", type="opportunity", stage=PROPOSITION, company=2,
             partner_name="Loop Accounting", email="info@loopaccounting.example.com", place=CHICAGO, revenue=22000,
             probability=65, team=None, user=None, created_days_ago=13, deadline_in_days=12),
]

# Dashboard ("graph") opportunities: revenue and a closing date a couple of weeks out.
_GRAPH_CUSTOMERS = [
    ("Azure Interior", CHICAGO), ("Deco Addict", WAVRE), ("Gemini Furniture", MANCHESTER),
    ("Ready Mat", LIVERPOOL), ("Lumber Inc", OXFORD), ("Wood Corner", MELBOURNE),
    ("The Jackson Group", MANCHESTER), ("Le Bon Vin", PARIS), ("Chateau Margaux Trading", BORDEAUX),
    ("Distribuidora Caracas", CARACAS), ("Bodleian Books", OXFORD), ("Mersey Logistics", LIVERPOOL),
]
_GRAPH_STAGES = [NEW, QUALIFIED, PROPOSITION, QUALIFIED, NEW, PROPOSITION] * 2
for _index, (_customer, _place) in enumerate(_GRAPH_CUSTOMERS):
    DEMO_LEADS.append(
        DemoLead(
            f"{_customer}: additional order",
            type="opportunity",
            stage=_GRAPH_STAGES[_index],
            partner_name=_customer,
            email=f"orders{_index + 1}@example.com",
            phone=f"+33 1 25 54 {45 + _index:02d} {60 + _index:02d}",
            place=_place,
            revenue=float(2000 + 4500 * _index),
            probability=float(20 + 5 * _index),
            user=DEMO_ID if _index % 3 == 0 else ADMIN_ID,
            team=PRE_SALES if _index % 3 == 0 else SALES,
            tags=((_index % 8) + 1,),
            created_days_ago=2 + _index,
            deadline_in_days=10 + _index,
        )
    )
