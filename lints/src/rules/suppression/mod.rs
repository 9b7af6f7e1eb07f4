pub mod missing_reason;
