"""The Galaxy reference engine: the engine HTTP contract (docs/engine.md) and a small game."""

#: The engine contract this engine speaks; the URL prefix is its major version.
CONTRACT_VERSION = "1.0.0"
#: This engine's own version (what runtime registers as an engine version).
ENGINE_VERSION = "0.1.0"
ENGINE_NAME = "galaxy-reference"
