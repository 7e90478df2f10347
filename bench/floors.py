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
}


def visibility(who: dict) -> tuple[str, dict]:
    """The visibility rule for one user, with their team ids written out."""
    if who["role"] == "manager":
        return "(o.owner_id = %(user)s OR o.team_id = ANY(%(managed)s))", {"user": who["id"], "managed": who["managed"]}
    return (
        "(o.owner_id = %(user)s OR (o.owner_id IS NULL AND o.team_id = ANY(%(pool)s)))",
        {"user": who["id"], "pool": who["pool"]},
    )


def opportunity_list(who: dict, *, stage=None, search=None, sort="-created", page=1, per_page=50, count_limit=None):
    """The list's rows of one page and the count of every match."""
    where, params = visibility(who)
    joins_for_count = ""
    if stage is not None:
        where += " AND o.stage_id = %(stage)s"
        params["stage"] = stage
    if search:
        where += " AND (o.title ILIKE %(like)s OR c.name ILIKE %(like)s OR ct.name ILIKE %(like)s)"
        params["like"] = f"%{search}%"
        joins_for_count = (
            " JOIN customers_customer c ON c.id = o.customer_id LEFT JOIN customers_contact ct ON ct.id = o.contact_id"
        )
    params.update(limit=per_page, offset=(page - 1) * per_page)
    rows = f"SELECT {LIST_COLUMNS} FROM opportunities_opportunity o {LIST_JOINS} WHERE {where} ORDER BY {SORTS[sort]} LIMIT %(limit)s OFFSET %(offset)s"
    if count_limit:
        params["count_limit"] = count_limit
        count = f"SELECT count(*) FROM (SELECT 1 FROM opportunities_opportunity o{joins_for_count} WHERE {where} LIMIT %(count_limit)s) x"
    else:
        count = f"SELECT count(*) FROM opportunities_opportunity o{joins_for_count} WHERE {where}"
    return [(rows, params), (count, params)]


def board(who: dict, *, pipeline: int, cards: int = 20):
    """Per open stage: count, total and weighted total; and the first cards of each column."""
    where, params = visibility(who)
    params.update(pipeline=pipeline, cards=cards)
    figures = f"""
        SELECT o.stage_id, count(*), sum(o.amount_base), sum(o.amount_base * o.probability) / 100
        FROM opportunities_opportunity o
        WHERE o.status = 'open' AND o.pipeline_id = %(pipeline)s AND {where} GROUP BY o.stage_id"""
    first_cards = f"""
        SELECT s.id, card.* FROM stages_stage s CROSS JOIN LATERAL (
            SELECT o.id, o.title, o.amount_base, o.currency, o.expected_close_date, o.probability, o.owner_id,
                   u.username, u.first_name, u.last_name, c.name, o.last_activity_at, o.stage_entered_at
            FROM opportunities_opportunity o
            JOIN customers_customer c ON c.id = o.customer_id LEFT JOIN teams_user u ON u.id = o.owner_id
            WHERE o.stage_id = s.id AND o.status = 'open' AND {where}
            ORDER BY o.expected_close_date, o.id LIMIT %(cards)s) card
        WHERE s.pipeline_id = %(pipeline)s AND s.kind = 'open' ORDER BY s."order", card.expected_close_date, card.id"""
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


def dashboard(who: dict, *, today: datetime.date, month_start_at: datetime.datetime, expired_since: datetime.datetime):
    """Key figures, open deals by stage, the short lists, the incentive so far this month, and
    for a manager one line per rep."""
    where, params = visibility(who)
    params.update(
        today=today, soon=today + datetime.timedelta(days=7), month=month_start_at, expired_since=expired_since
    )
    idle = "GREATEST(COALESCE(o.last_activity_at, o.stage_entered_at), o.stage_entered_at)"
    stale = f"(o.status = 'open' AND s.rotting_days IS NOT NULL AND {idle} < %(today)s::timestamptz - s.rotting_days * interval '1 day')"
    kpis = f"""
        SELECT count(*) FILTER (WHERE o.status = 'open'), sum(o.amount_base) FILTER (WHERE o.status = 'open'),
               count(*) FILTER (WHERE o.status = 'open' AND o.expected_close_date BETWEEN %(today)s AND %(soon)s),
               count(*) FILTER (WHERE o.status = 'open' AND o.expected_close_date < %(today)s),
               count(*) FILTER (WHERE o.status = 'expired' AND o.closed_at >= %(expired_since)s),
               count(*) FILTER (WHERE {stale}),
               count(*) FILTER (WHERE o.status = 'open' AND o.owner_id IS NULL)
        FROM opportunities_opportunity o JOIN stages_stage s ON s.id = o.stage_id
        WHERE {where} AND (o.status = 'open' OR (o.status = 'expired' AND o.closed_at >= %(expired_since)s))"""
    by_stage = f"""
        SELECT p.id, p.name, s.id, s.name, count(*), sum(o.amount_base) FROM opportunities_opportunity o
        JOIN stages_stage s ON s.id = o.stage_id JOIN stages_pipeline p ON p.id = o.pipeline_id
        WHERE o.status = 'open' AND {where} GROUP BY p.id, p.name, s.id, s.name ORDER BY p.id, s.id"""
    short = f"SELECT o.id, o.title, o.expected_close_date, o.amount_base, c.name FROM opportunities_opportunity o JOIN customers_customer c ON c.id = o.customer_id JOIN stages_stage s ON s.id = o.stage_id WHERE {where} AND "
    lists = [
        short
        + "o.status = 'open' AND o.expected_close_date BETWEEN %(today)s AND %(soon)s ORDER BY o.expected_close_date, o.id LIMIT 6",
        short + "o.status = 'open' AND o.expected_close_date < %(today)s ORDER BY o.expected_close_date, o.id LIMIT 6",
        short + "o.status = 'expired' AND o.closed_at >= %(expired_since)s ORDER BY o.closed_at DESC, o.id LIMIT 6",
        short + f"{stale} ORDER BY {idle}, o.id LIMIT 6",
    ]
    credited = (
        "sc.owner_id = %(user)s"
        if who["role"] != "manager"
        else "(sc.owner_id = %(user)s OR o.team_id = ANY(%(managed)s))"
    )
    incentive = f"""
        SELECT count(*), sum(o.difficulty * 1000) FROM opportunities_statuschange sc JOIN opportunities_opportunity o ON o.id = sc.opportunity_id
        WHERE sc.to_status = 'won' AND sc.at >= %(month)s AND o.status = 'won' AND {credited}"""
    statements = [(kpis, params), (by_stage, params), *[(sql, params) for sql in lists], (incentive, params)]
    if who["role"] == "manager":
        reps = """
            SELECT u.id, u.username, u.first_name, u.last_name,
                   count(o.id) FILTER (WHERE o.status = 'open'), count(o.id) FILTER (WHERE o.status = 'open' AND o.expected_close_date < %(today)s),
                   count(o.id) FILTER (WHERE o.status = 'won'), count(o.id) FILTER (WHERE o.status = 'expired')
            FROM teams_user u LEFT JOIN opportunities_opportunity o ON o.owner_id = u.id AND o.team_id = ANY(%(managed)s)
            WHERE u.is_active AND u.id IN (SELECT user_id FROM teams_team_members WHERE team_id = ANY(%(managed)s))
            GROUP BY u.id ORDER BY u.username"""
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
