"""The provider's Airflow plugin: the "Generated media" view, and the page rendering it shares."""
