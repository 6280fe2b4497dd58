"""Signals other apps listen to, so connections never imports them."""

from django.dispatch import Signal

# Sent inside the transaction that stores a new authorization; receivers
# queue work with transaction.on_commit. Arguments: connection.
connection_authorized = Signal()
