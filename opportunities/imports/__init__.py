"""Lead import: CSV/XLSX files of business cards and enquiries → customers, contacts and
opportunities, handed to reps. One service (``services.py``) under the page, the API and the
``import_leads`` command. See docs/IMPORT.md."""
