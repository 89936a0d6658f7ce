"""The vocabulary every layer shares: delivery states and attempt triggers.

The integer values are the API's (Svix's ``MessageStatus`` and
``MessageAttemptTriggerType``) and the values stored in the database.
"""

from enum import IntEnum


class DeliveryStatus(IntEnum):
    SUCCESS = 0
    PENDING = 1
    FAIL = 2
    SENDING = 3


# A delivery that may still be attempted: waiting, or claimed under a lease.
OPEN_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)


class Trigger(IntEnum):
    SCHEDULED = 0
    MANUAL = 1
