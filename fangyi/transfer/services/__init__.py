"""Importing a screening sheet, and exporting lists as xlsx.

An upload is checked at once (type, size, the header row) and stored under the data folder
(settings.DATA_DIR / "imports", never in the repository); an ImportJob row and a background
task (tasks.import_run) follow. The task reads the rows and, a batch at a time, validates each
row whole before anything of it is written, then stores the good rows through the other apps'
services: households (people.households_bulk_create), persons (people.persons_bulk_create),
door visits (screening.door_visit_record) and declarations (health.declarations_bulk_record,
source "import"). A bad row is written to the errors file, in the upload's format and columns,
with a column 錯誤 saying what is wrong and in which column; it never stops the good rows.

Every id that a row stores is derived from the row's content (uuid5), so the same file
imported twice stores its people, households, visits and declarations once.

The package's modules: `upload`, `cells` (reading a row), `importer` (the import itself), `jobs`
(running a job, its errors file, the template), `exports`.
"""

from django.conf import settings  # noqa: F401,E402  (tests read services.settings)

from fangyi.core.errors import DomainError  # noqa: F401,E402  (callers catch services.DomainError)

from .cells import (  # noqa: F401
    CONTACT_WORDS,
    FIELD_COLUMN,
    ID_TYPE_WORDS,
    METHOD_WORDS,
    NONE_WORDS,
    OUTCOME_WORDS,
    Row,
    parse_date,
)
from .exports import (  # noqa: F401
    OBSERVATION_FILTERS,
    Export,
    coverage_export,
    export_file,
    observations_export,
)
from .importer import (  # noqa: F401
    Importer,
)
from .jobs import (  # noqa: F401
    _read_any,
    errors_content,
    import_process,
    template_content,
)
from .upload import (  # noqa: F401
    BATCH,
    MAX_ROWS,
    MAX_UPLOAD_BYTES,
    NAMESPACE,
    import_create,
    imports_dir,
    max_upload_bytes,
    stored_path,
)
