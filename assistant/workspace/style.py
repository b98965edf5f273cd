"""The workspace's style sheet (passed to `launch(css=...)`): the header, sources, bars, conversation lists,
the phone layout and the colours of both themes."""

CSS = """
.ma-header {display:flex; justify-content:space-between; align-items:center; flex-wrap:wrap; gap:12px;
  padding:14px 18px; border-radius:10px; border:1px solid var(--border-color-primary);
  background:var(--background-fill-secondary);}
.ma-title {font-size:1.45rem; font-weight:600; letter-spacing:-0.01em;}
.ma-tagline {color:var(--body-text-color-subdued); font-size:0.95rem; margin-top:2px;}
.ma-status {display:flex; gap:8px; flex-wrap:wrap; align-items:center;}
.ma-pill {display:inline-block; padding:4px 11px; border-radius:999px; font-size:0.85rem;
  border:1px solid var(--border-color-primary); background:var(--background-fill-primary);}
.ma-pill-backend {border-color:#0f766e; color:#0f766e; font-weight:600;}
.ma-theme-switch {cursor:pointer; color:var(--body-text-color); font:inherit; font-size:0.85rem;}
.ma-theme-switch:focus-visible {outline:2px solid var(--color-accent);}
.ma-pill-llm {border-color:#4338ca; color:#4338ca; font-weight:600;}
.ma-pill-warn {border-color:#b45309; color:#b45309; font-weight:600;}
.ma-banner {padding:10px 14px; border-radius:8px; margin:2px 0 6px; border-left:5px solid; line-height:1.45;}
.ma-banner strong {display:block; margin-bottom:2px;}
.ma-safety {border-color:#b91c1c; background:rgba(220,38,38,0.09);}
.ma-fallback {border-color:#b45309; background:rgba(245,158,11,0.12);}
.ma-info {border-color:#1d4ed8; background:rgba(59,130,246,0.09);}
.ma-error {border-color:#b91c1c; background:rgba(220,38,38,0.09);}
.ma-ok {border-color:#15803d; background:rgba(34,197,94,0.10);}
.ma-sources h3 {margin:0 0 8px; font-size:1.05rem;}
.ma-sources-head {cursor:pointer; list-style:revert;}
.ma-sources-head h3 {display:inline;}
.ma-sources-box[open] > .ma-sources-head {margin-bottom:8px;}
.ma-muted {color:var(--body-text-color-subdued); font-size:0.9rem;}
.ma-source {border:1px solid var(--border-color-primary); border-radius:8px; padding:8px 10px; margin-bottom:8px;
  background:var(--background-fill-primary);}
.ma-source summary {cursor:pointer; list-style:revert;}
.ma-source-n {font-weight:600; color:#0f766e; margin-right:4px;}
.ma-source-title {font-weight:600;}
.ma-tag {display:inline-block; font-size:0.75rem; padding:1px 8px; border-radius:999px; margin-left:6px;
  background:var(--background-fill-secondary); border:1px solid var(--border-color-primary);}
.ma-cited {border-color:#0f766e; color:#0f766e;}
details[open] + .ma-snippet {display:none;}
.ma-snippet {margin:6px 0 0; font-size:0.9rem; color:var(--body-text-color-subdued);}
.ma-full {margin-top:8px; padding-top:8px; border-top:1px dashed var(--border-color-primary); font-size:0.92rem;}
.ma-full p, .ma-full li {margin:0.25em 0;}
.ma-score {display:flex; align-items:baseline; gap:10px; margin-bottom:10px;}
.ma-score-n {font-size:2.2rem; font-weight:600;}
.ma-verdict-good {color:#15803d; font-weight:600;}
.ma-verdict-bad {color:#b45309; font-weight:600;}
.ma-bars {display:grid; grid-template-columns:minmax(150px, 230px) 1fr 52px; gap:6px 10px; align-items:center;
  margin:8px 0 14px; font-size:0.9rem;}
.ma-bar {height:12px; border-radius:6px; background:var(--background-fill-secondary);
  border:1px solid var(--border-color-primary); overflow:hidden;}
.ma-bar > span {display:block; height:100%;}
.ma-bar-pass {background:#16a34a;}
.ma-bar-fail {background:#dc2626;}
.ma-bar-mid {background:#d97706;}
.ma-bar-value {text-align:right; font-variant-numeric:tabular-nums;}
.ma-highlight {white-space:pre-wrap; line-height:1.7; padding:10px 12px; border-radius:8px;
  border:1px solid var(--border-color-primary); background:var(--background-fill-primary);}
.ma-highlight mark {padding:1px 2px; border-radius:3px; color:inherit;}
.ma-mark-good {background:rgba(34,197,94,0.25);}
.ma-mark-bad {background:rgba(239,68,68,0.30); text-decoration:underline wavy #dc2626;}
.ma-legend span {margin-right:10px; font-size:0.85rem;}
.ma-chart {display:grid; grid-template-columns:minmax(160px, 260px) 1fr 64px; gap:6px 10px; align-items:center;
  font-size:0.9rem;}
.ma-chart .ma-bar > span {background:#0f766e;}
.ma-tension {font-size:0.9rem;}
#coach-input textarea {font-size:1rem;}
.ma-table-wrap {max-height:520px; overflow:auto; border:1px solid var(--border-color-primary); border-radius:8px;}
.ma-table {width:100%; border-collapse:collapse; font-size:0.9rem; border:none !important; margin:0 !important;}
.ma-table th, .ma-table td {border:none !important; border-bottom:1px solid var(--border-color-primary) !important;
  padding:6px 10px !important; text-align:left; vertical-align:top;}
.ma-table th {position:sticky; top:0; background:var(--background-fill-secondary); font-weight:600;}
.ma-table tr:last-child td {border-bottom:none !important;}
.ma-source-heading {display:block; font-size:0.85rem; color:var(--body-text-color-subdued); margin-left:1.3em;}
#session-preview, #knowledge-viewer {max-height:640px; overflow:auto; padding-right:6px;}
#session-preview h1, #knowledge-viewer h1 {font-size:1.3rem;}
#session-preview h2, #knowledge-viewer h2 {font-size:1.08rem;}
#session-preview h3, #knowledge-viewer h3 {font-size:1rem;}
#rating-row {align-items:center;}
.ma-cite {all:unset; cursor:pointer; color:#0f766e; font-weight:600; padding:0 2px; border-radius:4px;}
.ma-cite:hover, .ma-cite:focus-visible {background:rgba(15,118,110,0.14); outline:2px solid #0f766e;}
.ma-source-active {border-color:#0f766e; box-shadow:0 0 0 2px rgba(15,118,110,0.35);
  background:rgba(15,118,110,0.06);}
/* A failed handler is reported once, in its message; its outputs keep their content, no "Error" badge on each. */
div[data-testid="status-tracker"]:has(> .error) {display:none !important;}
.ma-eval-group {margin:8px 0;}
.ma-eval-group summary {cursor:pointer; font-weight:600;}
.ma-failing li {margin:6px 0;}
.ma-why {color:#b45309; font-size:0.9rem;}
/* The conversations beside the chat (and in the Sessions tab): one button per conversation, newest first. */
#coach-conversations, #sessions-conversations {max-height:560px; overflow:auto;}
.ma-convos {min-width:0; max-width:100%;}
.ma-convos ul {list-style:none; margin:0; padding:0; min-width:0;}
.ma-convos li {margin:0 0 4px;}
.ma-convo {all:unset; box-sizing:border-box; display:block; width:100%; max-width:100%; cursor:pointer;
  padding:7px 10px; border-radius:8px; border:1px solid transparent;}
.ma-convo:hover {background:var(--background-fill-secondary);}
.ma-convo:focus-visible {outline:2px solid var(--color-accent);}
.ma-convo-current {background:var(--background-fill-secondary); border-color:var(--border-color-primary);}
.ma-convo-line {display:flex; font-size:0.92rem; min-width:0;}
.ma-convo-title {overflow:hidden; text-overflow:ellipsis; white-space:nowrap; min-width:0;}
.ma-convo-n {flex:none; white-space:pre;}
.ma-convo-current .ma-convo-title {font-weight:600;}
.ma-convo-meta {display:block; font-size:0.78rem; color:var(--body-text-color-subdued);}
/* Rename and Delete beside each conversation: over the end of the row on hover and focus (the title keeps the
   row's width otherwise), and always in the row on a touch screen, which has no hover. */
.ma-convo-item {position:relative; display:flex; align-items:center; gap:2px; min-width:0;}
.ma-convo-item > .ma-convo {flex:1 1 auto; min-width:0;}
.ma-convo-actions {position:absolute; right:4px; top:50%; transform:translateY(-50%); display:flex; gap:2px;
  opacity:0; border-radius:6px; background:var(--background-fill-secondary);}
.ma-convo-item:hover .ma-convo-actions, .ma-convo-item:focus-within .ma-convo-actions {opacity:1;}
@media (hover: none) {.ma-convo-actions {position:static; transform:none; opacity:1; background:none;}}
.ma-convo-act {all:unset; cursor:pointer; padding:5px 6px; border-radius:6px; line-height:0;
  color:var(--body-text-color);}
.ma-convo-act:hover {background:var(--background-fill-secondary);}
.ma-convo-act:focus-visible {outline:2px solid var(--color-accent); opacity:1;}
.ma-convo-leaving {display:none;}
.ma-renaming > .ma-convo, .ma-renaming > .ma-convo-actions {display:none;}
.ma-rename {flex:1 1 auto; display:flex; flex-direction:column; gap:2px; padding:4px 2px;}
.ma-rename input {width:100%; box-sizing:border-box; padding:5px 8px; border-radius:6px; font:inherit;
  border:1px solid var(--color-accent); background:var(--background-fill-primary); color:var(--body-text-color);}
.ma-rename-hint, .ma-list-note {font-size:0.8rem; color:#b91c1c; margin:0;}
.ma-toast {margin:0 0 8px; padding:7px 10px; line-height:1.5;
  border-radius:8px; font-size:0.88rem; background:var(--background-fill-secondary);
  border:1px solid var(--border-color-primary);}
.ma-toast-title {font-weight:600;}
.ma-undo {all:unset; cursor:pointer; margin-left:4px; font-weight:600; color:var(--link-text-color);
  text-decoration:underline;}
.ma-undo:focus-visible {outline:2px solid var(--color-accent); border-radius:3px;}
/* A copied message says so next to its copy button for a moment. */
.ma-copied {position:relative;}
.ma-copied::after {content:"Copied"; position:absolute; left:100%; top:50%; transform:translateY(-50%);
  margin-left:4px; padding:1px 6px; border-radius:4px; font-size:0.75rem; white-space:nowrap;
  background:var(--background-fill-secondary); color:var(--body-text-color);
  border:1px solid var(--border-color-primary);}
/* A mentor's question is plain text: its line breaks are kept. */
#coach-chat [data-testid="user"] .message-content {white-space:pre-wrap;}
#practice-chat [data-testid="user"] .message-content {white-space:pre-wrap;}
/* An answer is HTML rendered on the server: the line breaks between its tags are not text (the chat's own
   `pre-line` showed each as an empty line between paragraphs and list items). Code blocks keep theirs. */
#coach-chat [data-testid="bot"] .message-content {white-space:normal;}
#practice-chat [data-testid="bot"] .message-content {white-space:normal;}
#coach-chat [data-testid="bot"] .message-content .md {white-space:normal;}
#practice-chat [data-testid="bot"] .message-content .md {white-space:normal;}
.ma-stopped {color:var(--body-text-color-subdued);}
.ma-doc-link {all:unset; cursor:pointer; color:var(--link-text-color); text-decoration:underline;}
.ma-doc-link:focus-visible {outline:2px solid var(--color-accent); border-radius:3px;}
/* Readable in both themes: the accent colours above are dark ink for a light page; on the dark page the same
   roles take light tints, and secondary text is a grey with enough contrast on either background. */
body {--ma-muted:#4b5563;}
body.dark {--ma-muted:#aab4c3;}
.ma-muted, .ma-snippet, .ma-convo-meta, .ma-tagline, .ma-source-heading, .ma-stopped {color:var(--ma-muted);}
/* One selector per rule: Gradio scopes a `.dark` rule by its first selector only. */
.dark .ma-pill-backend {color:#5eead4; border-color:#5eead4;}
.dark .ma-source-n {color:#5eead4;}
.dark .ma-cite {color:#5eead4;}
.dark .ma-cited {color:#5eead4; border-color:#5eead4;}
.dark .ma-cite:hover {outline-color:#5eead4; background:rgba(94,234,212,0.16);}
.dark .ma-cite:focus-visible {outline-color:#5eead4; background:rgba(94,234,212,0.16);}
.dark .ma-source-active {border-color:#5eead4; box-shadow:0 0 0 2px rgba(94,234,212,0.35);}
.dark .ma-pill-llm {color:#a5b4fc; border-color:#a5b4fc;}
.dark .ma-pill-warn {color:#fbbf24; border-color:#fbbf24;}
.dark .ma-why {color:#fbbf24;}
.dark .ma-verdict-bad {color:#fbbf24;}
.dark .ma-verdict-good {color:#4ade80;}
.dark .ma-rename-hint {color:#fca5a5;}
.dark .ma-list-note {color:#fca5a5;}
@media (max-width: 720px) {
  /* Gradio moves tabs that do not fit into a "more" menu by measuring hidden copies of the tab buttons; the
     copies are made narrow so every tab stays in the bar, and the bar wraps onto a second line instead. */
  #ma-tabs .tab-container.visually-hidden button {padding:0 !important; width:1px !important;
    min-width:0 !important; overflow:hidden;}
  #ma-tabs [role="tablist"] {flex-wrap:wrap; height:auto; row-gap:2px;}
  /* The chat column's widgets join the row, so the sources sit right under the conversation and its box. */
  #coach-row {flex-direction:column; flex-wrap:nowrap;}
  #coach-main {display:contents;}
  #coach-row > *, #coach-main > * {order:5;}
  #coach-notice {order:1;}
  #coach-chat {order:2;}
  #coach-ask-row {order:3;}
  #sources-column {order:4;}
  #coach-sidebar {order:6; min-width:0 !important; width:100%; max-width:100%;}
}
"""
