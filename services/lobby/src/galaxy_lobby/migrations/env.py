from galaxy_kit.migrations import run_env
from galaxy_lobby.repository.tables import metadata

run_env(metadata)
