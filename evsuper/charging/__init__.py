"""Smart charging: the site's electrical tree and the pure allocator sharing its power,
typed OCPP 1.6 charging profiles and the composite schedule they make."""
