-- Attempts per account, action and minute, shared by every replica (fixed windows).
CREATE TABLE rate_limit_windows (
    account_id   text        NOT NULL,
    action       text        NOT NULL,
    window_start timestamptz NOT NULL,
    attempts     integer     NOT NULL,
    PRIMARY KEY (account_id, action, window_start)
);
