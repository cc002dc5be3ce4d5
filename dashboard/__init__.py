"""The Streamlit dashboard: reads the published snapshot only."""
