"""GraphQL object types. Their source objects are the query layer's rows themselves, so
plain fields resolve by attribute access with no resolver of their own."""
