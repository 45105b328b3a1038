"""The authoring services are tested with the admin's signed-in clients too (their pages drive them)."""

from tests.admin.conftest import admin, admin_client, manager, signed_in  # noqa: F401 - fixtures
