"""A throw-away WordPress multisite on 127.0.0.1 with plugin-stub, for tests, the demo and users' trials."""
