"""Smart charging: typed OCPP 1.6 charging profiles and the composite schedule they make."""
