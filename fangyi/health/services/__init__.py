"""Risk rules, declarations, decisions and personal self-report links: every write, and the
rules' evaluation. The UI, the API, the import and the benchmark all call these; they import
from this package, whose modules are named after what they hold:

- `rules`: the rules' configuration read once (`rules_config`) and the rules themselves
  (`rules_evaluate`, a pure function, so the bulk path evaluates a hundred thousand
  declarations without a query each);
- `declarations`: a declaration's input, its validation and the one-at-a-time writes;
- `bulk`: the bulk path and its database encoders;
- `decisions`: a health decision (the observation it starts is fangyi.care.flows);
- `selfreport`: personal self-report links;
- `configuration`: the administrators' writes to areas, symptoms and settings.
"""

from fangyi.people.models import CENTRAL_PLACE_KINDS  # noqa: F401  (the name's old home)

from .bulk import (  # noqa: F401
    DeclarationBulkResult,
    DeclarationRow,
    declarations_bulk_record,
)
from .configuration import (  # noqa: F401
    AREA_FIELDS,
    SETTINGS_FIELDS,
    SETTINGS_LIMITS,
    SYMPTOM_FIELDS,
    risk_area_create,
    risk_area_delete,
    risk_area_update,
    settings_update,
    symptom_create,
    symptom_update,
)
from .decisions import (  # noqa: F401
    DECISION_FIELDS,
    decision_record,
)
from .declarations import (  # noqa: F401
    DECLARATION_FIELDS,
    DeclarationInput,
    declaration_clean,
    declaration_confirm,
    declaration_propose,
    declaration_record,
)
from .rules import (  # noqa: F401
    CONTACT_KINDS,
    MAX_ROWS,
    OUTCOMES,
    R_CLEARED,
    R_CONFIRMED,
    R_CONFIRMED_WHO,
    R_FEVER,
    R_NO_TEMPERATURE,
    R_SUSPECTED,
    R_SUSPECTED_WHO,
    R_SYMPTOMS,
    R_TRAVEL,
    SOURCES,
    STRENGTH,
    TEMP_MAX,
    TEMP_METHODS,
    TEMP_MIN,
    AreaRule,
    Proposal,
    RulesConfig,
    area_keys,
    id_region_signal,
    rules_config,
    rules_evaluate,
)
from .selfreport import (  # noqa: F401
    DAY_TOKEN_SALT,
    _digest,
    selfreport_day_token,
    selfreport_declare,
    selfreport_link_create,
    selfreport_links_in_force,
    selfreport_resolve,
)
