//! Miracle's MRKL router — the tool-call protocol, the agent loop and YAML workflows.
//!
//! Deliberately empty until the router issue lands: nothing here pretends to work yet.
