"""Framework integrations. Import the module for your framework; each imports only its own."""
