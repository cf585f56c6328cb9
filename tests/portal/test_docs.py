"""The README and docs stand alone: every file they point to is in the repository."""
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#]+)(?:#[^)]*)?\)")


def test_every_link_of_the_docs_is_a_file_of_the_repository():
    for doc in DOCS:
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://")):
                continue
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), f"{doc.name} links to {target}, not in the repository"


def test_management_command_examples_use_dev_py_manage():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`python manage.py" not in readme.replace("`python manage.py COMMAND`", "")
