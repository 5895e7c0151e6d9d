"""The production endpoints of both services, defined once (the template's parameters and the
clients' defaults all come from here)."""

INTACCT_GATEWAY_URL = "https://api.intacct.com/ia/xml/xmlgw.phtml"
BLIXO_API_URL = "https://api.blixo.com/v1/"
