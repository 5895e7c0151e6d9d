"""The Accounting Sync API's contract, apart from its routes: the bodies it reads and answers, and
how it refuses a request (functions/api owns the routes and the handler)."""
