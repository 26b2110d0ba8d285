"""The rules of the reference game: pure functions over a `GameState`, no I/O."""
