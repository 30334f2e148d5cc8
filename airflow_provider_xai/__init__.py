"""Apache Airflow provider for xAI Grok Imagine image and video generation."""

__version__ = "0.1.0"
