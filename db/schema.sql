-- The "skel" sample database: companies and their users.
CREATE TABLE companies (
  id serial PRIMARY KEY,
  name text NOT NULL UNIQUE,
  city text
);

CREATE TABLE users (
  id serial PRIMARY KEY,
  name text NOT NULL,
  email text NOT NULL UNIQUE,
  company_id integer REFERENCES companies (id) ON DELETE SET NULL
);
