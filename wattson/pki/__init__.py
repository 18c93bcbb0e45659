"""Station certificates: the CSMS's CA, the rules a certificate signing request must meet, the
signing providers, and the record of each request from SignCertificate to the station's answer
(docs/security.md)."""
