"""``JSONValue``: what ``json.loads`` returns, for a public signature that takes or gives arbitrary JSON."""

JSONValue = None | bool | int | float | str | list["JSONValue"] | dict[str, "JSONValue"]
