"""The opportunity search's own column, ``search_text``.

The search (``opportunity_search_terms_q``) wants every word in the title, the customer's name or
the contact's name. Matched in three tables, a common word ("Harbor": 5,300 customers, 34,000
deals) meant probing the deals' customer index once per matching customer, then keeping the
user's. ``search_text`` holds the three, upper-cased, one per line, under one trigram index: a
word is one index condition, which PostgreSQL combines (BitmapAnd) with the owner's or team's.

On PostgreSQL, triggers keep it right in the same transaction whoever writes: a deal inserted
(the services, the import's COPY) or saved with its title, customer or contact (the value is
always computed again, so what Django sends is ignored); a customer or contact renamed (the
deals naming them are rewritten). Other updates (a stage move, the expiry) do not touch it. The
trigram index replaces the title's (0005), which it covers. Elsewhere (SQLite) the column stays
empty and the search looks in the three fields themselves.
"""

from django.db import migrations, models

FORWARD = r"""
ALTER TABLE opportunities_opportunity ALTER COLUMN search_text SET DEFAULT '';

UPDATE opportunities_opportunity o SET search_text = named.search_text
FROM (
    SELECT d.id, UPPER(d.title || E'\n' || c.name || E'\n' || COALESCE(ct.name, '')) AS search_text
    FROM opportunities_opportunity d
    JOIN customers_customer c ON c.id = d.customer_id
    LEFT JOIN customers_contact ct ON ct.id = d.contact_id
) named
WHERE named.id = o.id;

CREATE OR REPLACE FUNCTION opportunity_search_text_fill() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    customer_name text;
    contact_name text;
BEGIN
    -- A deal that newly names a customer or contact waits (FOR SHARE) for a rename of it that
    -- is in progress, then reads the new name: the rename's own update of the customer's deals
    -- cannot see this row. A deal that already named them needs no lock: the rename's update
    -- waits for this row and rewrites it.
    IF TG_OP = 'INSERT' OR NEW.customer_id IS DISTINCT FROM OLD.customer_id THEN
        SELECT name INTO customer_name FROM customers_customer WHERE id = NEW.customer_id FOR SHARE;
    ELSE
        SELECT name INTO customer_name FROM customers_customer WHERE id = NEW.customer_id;
    END IF;
    IF TG_OP = 'INSERT' OR NEW.contact_id IS DISTINCT FROM OLD.contact_id THEN
        SELECT name INTO contact_name FROM customers_contact WHERE id = NEW.contact_id FOR SHARE;
    ELSE
        SELECT name INTO contact_name FROM customers_contact WHERE id = NEW.contact_id;
    END IF;
    NEW.search_text := UPPER(
        NEW.title || E'\n' || COALESCE(customer_name, '') || E'\n' || COALESCE(contact_name, '')
    );
    RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION opportunity_search_text_customer_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- opportunity_search_text_fill computes the new value of each row.
    UPDATE opportunities_opportunity SET search_text = DEFAULT WHERE customer_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE OR REPLACE FUNCTION opportunity_search_text_contact_renamed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE opportunities_opportunity SET search_text = DEFAULT WHERE contact_id = NEW.id;
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS opportunity_search_text_fill ON opportunities_opportunity;
CREATE TRIGGER opportunity_search_text_fill
    BEFORE INSERT OR UPDATE OF title, customer_id, contact_id, search_text ON opportunities_opportunity
    FOR EACH ROW EXECUTE FUNCTION opportunity_search_text_fill();

DROP TRIGGER IF EXISTS opportunity_search_text_customer_renamed ON customers_customer;
CREATE TRIGGER opportunity_search_text_customer_renamed
    AFTER UPDATE OF name ON customers_customer
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION opportunity_search_text_customer_renamed();

DROP TRIGGER IF EXISTS opportunity_search_text_contact_renamed ON customers_contact;
CREATE TRIGGER opportunity_search_text_contact_renamed
    AFTER UPDATE OF name ON customers_contact
    FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
    EXECUTE FUNCTION opportunity_search_text_contact_renamed();

-- Also in a session that skips ordinary triggers (session_replication_role = replica: the bench's
-- bulk load, a logical replica): the column is part of the data, not a check.
ALTER TABLE opportunities_opportunity ENABLE ALWAYS TRIGGER opportunity_search_text_fill;
ALTER TABLE customers_customer ENABLE ALWAYS TRIGGER opportunity_search_text_customer_renamed;
ALTER TABLE customers_contact ENABLE ALWAYS TRIGGER opportunity_search_text_contact_renamed;

CREATE INDEX IF NOT EXISTS opp_search_trgm ON opportunities_opportunity USING gin (search_text gin_trgm_ops);
DROP INDEX IF EXISTS opp_title_trgm;
"""

BACKWARD = r"""
CREATE INDEX IF NOT EXISTS opp_title_trgm ON opportunities_opportunity USING gin (UPPER(title) gin_trgm_ops);
DROP INDEX IF EXISTS opp_search_trgm;
DROP TRIGGER IF EXISTS opportunity_search_text_contact_renamed ON customers_contact;
DROP TRIGGER IF EXISTS opportunity_search_text_customer_renamed ON customers_customer;
DROP TRIGGER IF EXISTS opportunity_search_text_fill ON opportunities_opportunity;
DROP FUNCTION IF EXISTS opportunity_search_text_contact_renamed();
DROP FUNCTION IF EXISTS opportunity_search_text_customer_renamed();
DROP FUNCTION IF EXISTS opportunity_search_text_fill();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_search_trigram_indexes"),
        ("opportunities", "0009_dashboard_indexes_and_statuschange_deal_team"),
    ]

    operations = [
        migrations.AddField(
            model_name="opportunity",
            name="search_text",
            field=models.TextField(default="", editable=False, verbose_name="search text"),
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
