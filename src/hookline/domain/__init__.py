"""Pure rules of hookline: ids, signing, retry policy, matching. No I/O here."""
