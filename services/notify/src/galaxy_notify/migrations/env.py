from galaxy_kit.migrations import run_env
from galaxy_notify.repository.tables import metadata

run_env(metadata)
