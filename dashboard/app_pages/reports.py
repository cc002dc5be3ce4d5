"""Weekly reports: every week's report recorded in the snapshot, with its files to download.

Read-only. The report's own text is never rendered here (it quotes posts): only its files are offered.
"""

from __future__ import annotations

import streamlit as st

from dashboard import queries as q

MIME = {
    ".html": "text/html",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".parquet": "application/vnd.apache.parquet",
}

snapshot = q.snapshot_path()
reports = q.reports(snapshot)

if reports.empty:
    st.info(
        "No weekly report yet. Build one with `commonground report --week YYYY-Www` (default: the last "
        "complete week); reports are listed here once the snapshot is published."
    )
    st.stop()

st.caption(
    "Rankings in these reports are suggestions for a person to review, not verdicts about anyone. "
    "Each report is a folder of files: the HTML page, its PDF, CSVs and the week's scored posts (Parquet)."
)
listing = reports[["week", "n_posts", "n_accounts", "enough_data", "pseudonymized", "generated_at"]]
st.dataframe(
    listing.rename(
        columns={
            "n_posts": "posts",
            "n_accounts": "accounts",
            "enough_data": "enough data",
            "generated_at": "generated (UTC)",
        }
    ),
    hide_index=True,
    width="stretch",
)

week = st.selectbox("Report", list(reports["week"]), key="reports_week")
row = reports[reports["week"] == week].iloc[0]
if not row["enough_data"]:
    st.warning(f"{week} had too little data ({row['n_posts']} posts); its report says so.")
st.text(f"Folder: {row['folder']}")
columns = st.columns(3)
for i, name in enumerate(row["files"]):
    data = q.report_file(row["folder"], name)
    column = columns[i % 3]
    if data is None:
        column.text(f"{name}: missing from the folder")
        continue
    suffix = name[name.rfind(".") :]
    column.download_button(
        f"Download {name}",
        data=data,
        file_name=f"commonground-{week}-{name}",
        mime=MIME.get(suffix, "application/octet-stream"),
        key=f"report_{week}_{name}",
    )
