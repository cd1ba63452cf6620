-- One sealed check value per master key id: a configured key that does not open its id's
-- check value is a different key, and the service refuses to start with it.
CREATE TABLE master_key_checks (
    key_id     text        PRIMARY KEY,
    sealed     jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
