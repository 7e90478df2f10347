# ruff: noqa: E501  (long lines are SQL inside strings, kept readable as SQL)
"""The floor of each measured page: hand-written SQL that fetches exactly the data the page shows.

Each function takes the run's context (user ids, team ids, the long deal's id …, looked up
before timing) and the page's parameters, and returns the statements to run — every one fetched
completely. They are written the way a developer who knows the schema and its indexes would
write them, by hand, for this one page: no ORM, the visibility rules spelled out with literal ids.
"""

import datetime

LIST_COLUMNS = """
    o.id, o.title, o.customer_id, c.name, s.name, s.rotting_days, o.status, o.owner_id, u.username, u.first_name,
    u.last_name, o.amount_base, o.expected_close_date, o.probability, o.difficulty, o.last_activity_at,
    o.stage_entered_at, o.amount, o.currency, ct.name, p.name, t.name, src.name"""
LIST_JOINS = """
    JOIN customers_customer c ON c.id = o.customer_id
    JOIN stages_stage s ON s.id = o.stage_id
    LEFT JOIN teams_user u ON u.id = o.owner_id
    LEFT JOIN customers_contact ct ON ct.id = o.contact_id
    JOIN stages_pipeline p ON p.id = o.pipeline_id
    JOIN teams_team t ON t.id = o.team_id
    JOIN sources_leadsource src ON src.id = o.source_id"""
SORTS = {
    "-created": "o.created_at DESC, o.id DESC",
    "-amount": "o.amount_base DESC NULLS LAST, o.id DESC",
    "close": "o.expected_close_date ASC NULLS LAST, o.id ASC",
}


def visibility(who: dict) -> tuple[str, dict]:
    """The visibility rule for one user as one condition, with their team ids written out."""
    branches = visibility_branches(who)
    params = {}
    for _sql, branch_params in branches:
        params.update(branch_params)
    return "(" + " OR ".join(sql for sql, _params in branches) + ")", params


def visibility_branches(who: dict) -> list[tuple[str, dict]]:
    """The rule as branches that never share a deal: the user's own deals, the deals of the teams
    they manage, the unassigned pool of the teams whose pool they may work. Team ids are written
    as a list (``IN (1, 2)``), which PostgreSQL walks in index order; ``= ANY(array)`` it does not."""
    branches = [("o.owner_id = %(user)s", {"user": who["id"]})]
    if who["managed"]:
        branches.append(
            (
                "o.team_id IN %(managed)s AND (o.owner_id IS NULL OR o.owner_id <> %(user)s)",
                {"managed": tuple(who["managed"]), "user": who["id"]},
            )
        )
    pool = sorted(set(who["pool"]) - set(who["managed"]))
    if pool:
        branches.append(("o.owner_id IS NULL AND o.team_id IN %(pool)s", {"pool": tuple(pool)}))
    return branches


def _filters(*, stage=None, search=None) -> tuple[str, dict]:
    where, params = "", {}
    if stage is not None:
        where += " AND o.stage_id = %(stage)s"
        params["stage"] = stage
    if search:
        # The title, customer and contact names, upper-cased, one per line, under a trigram index
        # (opportunities/migrations/0010): one condition, combined with the owner's or team's index.
        where += " AND o.search_text LIKE UPPER(%(like)s)"
        params["like"] = f"%{search}%"
    return where, params


SORT_KEYS = {
    "-created": ("o.created_at", "created_at DESC, id DESC"),
    "-amount": ("o.amount_base", "sort_key DESC NULLS LAST, id DESC"),
    "close": ("o.expected_close_date", "sort_key ASC NULLS LAST, id ASC"),
}


def page_chrome(who: dict):
    """What every HTML page shows around its content: the signed-in user's name in the top bar
    and the count of their unread notifications on the bell."""
    params = {"user": who["id"]}
    return [
        ("SELECT username, first_name, last_name FROM teams_user WHERE id = %(user)s", params),
        (
            "SELECT count(*) FROM notifications_notification WHERE user_id = %(user)s AND read_at IS NULL",
            params,
        ),
    ]


def list_filters(who: dict):
    """The choices the list page's filter bar shows: the stages under their pipelines, the lead
    sources, the user's teams, and for a manager the people of their teams (the owner filter and
    the bulk form's reps)."""
    params = {"user": who["id"], "managed": tuple(who["managed"]) or (0,)}
    statements = [
        (
            "SELECT s.id, s.name, p.id, p.name FROM stages_stage s JOIN stages_pipeline p ON p.id = s.pipeline_id "
            'ORDER BY p."order", p.name, s."order", s.id',
            params,
        ),
        ("SELECT id, name FROM sources_leadsource ORDER BY is_active DESC, name", params),
        (
            "SELECT id, name FROM teams_team WHERE id IN (SELECT team_id FROM teams_team_members WHERE user_id = %(user)s "
            "UNION SELECT team_id FROM teams_team_managers WHERE user_id = %(user)s) ORDER BY name",
            params,
        ),
    ]
    if who["managed"]:
        statements.append(
            (
                "SELECT id, username, first_name, last_name, is_active FROM teams_user WHERE id IN "
                "(SELECT user_id FROM teams_team_members WHERE team_id IN %(managed)s) "
                "ORDER BY is_active DESC, first_name, username",
                params,
            )
        )
    return statements


def opportunity_list(who: dict, *, stage=None, search=None, sort="-created", page=1, per_page=50, count_limit=None):
    """One page of the list and its count, branch by branch: each branch's first rows in the
    sort order on its own index, merged; the count summed over the branches (stopping at
    ``count_limit`` when given, as the page's "10,000+" does)."""
    filters, params = _filters(stage=stage, search=search)
    offset = (page - 1) * per_page
    params.update(limit=per_page, offset=offset, first=offset + per_page)
    key, merged_order = SORT_KEYS[sort]
    parts, counts = [], []
    for sql, branch_params in visibility_branches(who):
        params.update(branch_params)
        parts.append(
            f"(SELECT o.id, {key} AS sort_key, o.created_at FROM opportunities_opportunity o WHERE {sql}{filters} "
            f"ORDER BY {SORTS[sort]} LIMIT %(first)s)"
        )
        limit = " LIMIT %(count_limit)s" if count_limit else ""
        counts.append(
            f"(SELECT count(*) FROM (SELECT 1 FROM opportunities_opportunity o WHERE {sql}{filters}{limit}) c)"
        )
    if count_limit:
        params["count_limit"] = count_limit
    ids = f"SELECT id FROM ({' UNION ALL '.join(parts)}) m ORDER BY {merged_order} LIMIT %(limit)s OFFSET %(offset)s"
    # Joined to the page's ids (not ``o.id IN (…)``, which PostgreSQL may plan as a semi-join over
    # the whole table): the planner knows there are at most 50.
    rows = (
        f"SELECT {LIST_COLUMNS} FROM ({ids}) page JOIN opportunities_opportunity o ON o.id = page.id {LIST_JOINS} "
        f"ORDER BY {SORTS[sort]}"
    )
    count = "SELECT " + " + ".join(counts)
    return [(rows, params), (count, params)]


def board(who: dict, *, pipeline: int, cards: int = 20):
    """Per open stage: count, total and weighted total; and the first cards of each column —
    branch by branch, each on the open-deal index of its owner or team."""
    branches = visibility_branches(who)
    params = {"pipeline": pipeline, "cards": cards}
    for _sql, branch_params in branches:
        params.update(branch_params)
    open_deals = " UNION ALL ".join(
        f"SELECT o.id, o.stage_id, o.amount_base, o.probability, o.expected_close_date FROM opportunities_opportunity o "
        f"WHERE o.status = 'open' AND o.pipeline_id = %(pipeline)s AND {sql}"
        for sql, _params in branches
    )
    figures = f"""
        SELECT stage_id, count(*), sum(amount_base), sum(amount_base * probability) / 100
        FROM ({open_deals}) d GROUP BY stage_id"""
    first = " UNION ALL ".join(
        f"(SELECT o.id, o.expected_close_date FROM opportunities_opportunity o WHERE o.status = 'open' "
        f"AND o.pipeline_id = %(pipeline)s AND o.stage_id = s.id AND {sql} ORDER BY o.expected_close_date, o.id LIMIT %(cards)s)"
        for sql, _params in branches
    )
    first_cards = f"""
        SELECT s.id, o.id, o.title, o.amount_base, o.currency, o.expected_close_date, o.probability, o.owner_id,
               u.username, u.first_name, u.last_name, c.name, o.last_activity_at, o.stage_entered_at
        FROM stages_stage s
        CROSS JOIN LATERAL (SELECT id FROM ({first}) b ORDER BY expected_close_date, id LIMIT %(cards)s) card
        JOIN opportunities_opportunity o ON o.id = card.id
        JOIN customers_customer c ON c.id = o.customer_id LEFT JOIN teams_user u ON u.id = o.owner_id
        WHERE s.pipeline_id = %(pipeline)s AND s.kind = 'open' ORDER BY s."order", o.expected_close_date, o.id"""
    stages = 'SELECT id, name, "order", probability, kind, rotting_days FROM stages_stage WHERE pipeline_id = %(pipeline)s ORDER BY "order"'
    pipelines = 'SELECT id, name FROM stages_pipeline WHERE is_active ORDER BY "order", name'
    return [(figures, params), (first_cards, params), (stages, params), (pipelines, {})]


def opportunity_detail(who: dict, *, deal: int):
    """The deal with its names, its pipeline's stages, and its whole timeline with attachments."""
    params = {"deal": deal}
    where, visible = visibility(who)
    params.update(visible)
    deal_row = f"""
        SELECT o.*, c.name, s.name, p.name, t.name, src.name, u.username, u.first_name, u.last_name, ct.name, ct.phone, ct.email
        FROM opportunities_opportunity o {LIST_JOINS}
        WHERE o.id = %(deal)s AND {where}"""
    stages = """SELECT id, name, "order", probability, kind, requires_attachment, requires_tracking_number, required_fields
                FROM stages_stage WHERE pipeline_id = (SELECT pipeline_id FROM opportunities_opportunity WHERE id = %(deal)s) ORDER BY "order" """
    timeline = """
        SELECT 'assignment' AS kind, a.at, a.by_id, a.from_owner_id::text, a.to_owner_id::text, a.reason FROM opportunities_assignment a WHERE a.opportunity_id = %(deal)s
        UNION ALL SELECT 'stage', sc.at, sc.by_id, fs.name, ts.name, sc.note FROM opportunities_stagechange sc
            LEFT JOIN stages_stage fs ON fs.id = sc.from_stage_id JOIN stages_stage ts ON ts.id = sc.to_stage_id WHERE sc.opportunity_id = %(deal)s
        UNION ALL SELECT 'close_date', cd.at, cd.by_id, cd.old_date::text, cd.new_date::text, cd.reason FROM opportunities_closedatechange cd WHERE cd.opportunity_id = %(deal)s
        UNION ALL SELECT 'status', st.at, st.by_id, st.from_status, st.to_status, st.reason FROM opportunities_statuschange st WHERE st.opportunity_id = %(deal)s
        UNION ALL SELECT 'field', fc.at, fc.by_id, fc.old_value, fc.new_value, fc.field FROM opportunities_fieldchange fc WHERE fc.opportunity_id = %(deal)s
        UNION ALL SELECT 'activity', ac.occurred_at, ac.author_id, ac.kind, ac.tracking_number, ac.body FROM opportunities_activity ac WHERE ac.opportunity_id = %(deal)s
        ORDER BY 2"""
    people = """SELECT id, username, first_name, last_name FROM teams_user WHERE id IN (
        SELECT by_id FROM opportunities_stagechange WHERE opportunity_id = %(deal)s UNION SELECT author_id FROM opportunities_activity WHERE opportunity_id = %(deal)s)"""
    attachments = "SELECT id, activity_id, original_name, content_type, size, stage_id FROM opportunities_attachment WHERE opportunity_id = %(deal)s"
    return [(deal_row, params), (stages, params), (timeline, params), (people, params), (attachments, params)]


def _visible(who: dict, columns: str, where: str) -> tuple[str, dict]:
    """The visible deals matching ``where``, branch by branch (UNION ALL), as a subquery."""
    parts, params = [], {}
    for sql, branch_params in visibility_branches(who):
        parts.append(f"SELECT {columns} FROM opportunities_opportunity o WHERE {sql} AND {where}")
        params.update(branch_params)
    return "(" + " UNION ALL ".join(parts) + ")", params


def dashboard(who: dict, *, today: datetime.date, month_start_at: datetime.datetime, expired_since: datetime.datetime):
    """Key figures, open deals by stage, the short lists, the incentive so far this month, and
    for a manager one line per rep. The open deals are read once, only the columns of the
    partial open-deal indexes, grouped by stage id (the key figures are the groups' sums), the
    names joined to the groups; the recently expired deals counted on their own index; each
    short list on the index of its order."""
    from crm.dates import company_zone

    params = {
        "today": today,
        "soon": today + datetime.timedelta(days=7),
        "month": month_start_at,
        "expired_since": expired_since,
        "zone": company_zone().key,
    }
    open_figures, branch_params = _visible(
        who,
        "o.stage_id, o.owner_id, o.amount_base, o.expected_close_date, o.last_activity_at, o.stage_entered_at",
        "o.status = 'open'",
    )
    expired_ids, _same = _visible(who, "o.id", "o.status = 'expired' AND o.closed_at >= %(expired_since)s")
    params.update(branch_params)
    idle = "GREATEST(COALESCE(d.last_activity_at, d.stage_entered_at), d.stage_entered_at)"
    # Stale as opportunities.selectors._stale_threshold: idle since before the start, in company
    # time, of the day rotting_days - 1 days before today.
    threshold = "((%(today)s::date - (s.rotting_days - 1))::timestamp AT TIME ZONE %(zone)s)"
    stale = f"(s.rotting_days IS NOT NULL AND {idle} < {threshold})"
    by_stage = f"""
        SELECT p.id, p.name, s.id, s.name, g.open, g.amount, g.closing, g.overdue, g.stale, g.pool
        FROM (
            SELECT d.stage_id, count(*) AS open, sum(d.amount_base) AS amount,
                   count(*) FILTER (WHERE d.expected_close_date BETWEEN %(today)s AND %(soon)s) AS closing,
                   count(*) FILTER (WHERE d.expected_close_date < %(today)s) AS overdue,
                   count(*) FILTER (WHERE {stale}) AS stale, count(*) FILTER (WHERE d.owner_id IS NULL) AS pool
            FROM {open_figures} d JOIN stages_stage s ON s.id = d.stage_id GROUP BY d.stage_id) g
        JOIN stages_stage s ON s.id = g.stage_id JOIN stages_pipeline p ON p.id = s.pipeline_id
        ORDER BY p."order", p.id, s."order", s.id"""
    expired_count = f"SELECT count(*) FROM {expired_ids} e"

    # Each short list: every branch's first six in the list's order (each on the index of that
    # order), then the first six of those, with their customer's name.
    def first_six(where: str, order: str, *, joins: str = "") -> str:
        branches = " UNION ALL ".join(
            f"(SELECT o.id, o.title, o.expected_close_date, o.amount_base, o.closed_at, o.customer_id, {idle.replace('d.', 'o.')} AS idle FROM opportunities_opportunity o {joins} WHERE {sql} AND {where} ORDER BY {order.replace('d.', 'o.')} LIMIT 6)"
            for sql, _params in visibility_branches(who)
        )
        return f"SELECT d.id, d.title, d.expected_close_date, d.amount_base, c.name FROM ({branches}) d JOIN customers_customer c ON c.id = d.customer_id ORDER BY {order.replace(idle, 'd.idle')} LIMIT 6"

    lists = [
        first_six(
            "o.status = 'open' AND o.expected_close_date BETWEEN %(today)s AND %(soon)s", "d.expected_close_date, d.id"
        ),
        first_six("o.status = 'open' AND o.expected_close_date < %(today)s", "d.expected_close_date, d.id"),
        first_six("o.status = 'expired' AND o.closed_at >= %(expired_since)s", "d.closed_at DESC, d.id DESC"),
        first_six(
            f"o.status = 'open' AND {stale.replace('d.', 'o.')}",
            f"{idle}, d.id",
            joins="JOIN stages_stage s ON s.id = o.stage_id",
        ),
    ]
    params.update(user=who["id"], managed_ids=list(who["managed"]))
    # The month's wins still standing (no later reopen), credited to the rep — or, for a
    # manager, on their teams' deals: a rep's on the index of their wins, a team's on the index
    # of its wins (the event's copy of the deal's team), each joined to its deal by id.
    reopened = "EXISTS (SELECT 1 FROM opportunities_statuschange r WHERE r.opportunity_id = sc.opportunity_id AND r.to_status = 'open' AND (r.at > sc.at OR (r.at = sc.at AND r.id > sc.id)))"
    credited = (
        "sc.owner_id = %(user)s AND o.owner_id = %(user)s"
        if who["role"] != "manager"
        else "(sc.deal_team_id IN %(managed)s OR sc.owner_id = %(user)s) AND (o.team_id IN %(managed)s OR o.owner_id = %(user)s)"
    )
    incentive = f"""
        SELECT count(*), sum(o.difficulty * 1000) FROM opportunities_statuschange sc JOIN opportunities_opportunity o ON o.id = sc.opportunity_id
        WHERE sc.to_status = 'won' AND sc.at >= %(month)s AND {credited} AND NOT {reopened}"""
    statements = [(by_stage, params), (expired_count, params), *[(sql, params) for sql in lists], (incentive, params)]
    if who["role"] == "manager":
        reps = """
            SELECT u.id, u.username, u.first_name, u.last_name, c.open, c.overdue, c.won, c.expired
            FROM teams_user u LEFT JOIN (
                SELECT o.owner_id, count(*) FILTER (WHERE o.status = 'open') AS open,
                       count(*) FILTER (WHERE o.status = 'open' AND o.expected_close_date < %(today)s) AS overdue,
                       count(*) FILTER (WHERE o.status = 'won') AS won, count(*) FILTER (WHERE o.status = 'expired') AS expired
                FROM opportunities_opportunity o WHERE o.team_id = ANY(%(managed_ids)s) GROUP BY o.owner_id) c ON c.owner_id = u.id
            WHERE u.is_active AND u.id IN (SELECT user_id FROM teams_team_members WHERE team_id = ANY(%(managed_ids)s))
            ORDER BY u.username"""
        statements.append((reps, params))
    return statements


def api_detail(who: dict, *, deal: int):
    where, params = visibility(who)
    params["deal"] = deal
    return [
        (
            f"SELECT {LIST_COLUMNS}, o.description, o.version FROM opportunities_opportunity o {LIST_JOINS} WHERE o.id = %(deal)s AND {where}",
            params,
        )
    ]
