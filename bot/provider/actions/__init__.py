"""The protocol's actions, one module per family; :class:`~bot.provider.client.ProviderClient`
inherits them all and gives them its transport."""
