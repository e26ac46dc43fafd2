-- Runs once, on the database's first boot. `devenv db reset db` brings this state back.
CREATE TABLE notes (
  id serial PRIMARY KEY,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO notes (body) VALUES ('Hello from devenv');
