INSERT INTO companies (name, city) VALUES
  ('3PillarGlobal', 'Timișoara'),
  ('Example Corp', 'Springfield'),
  ('Acme', 'Cluj-Napoca');

INSERT INTO users (name, email, company_id) VALUES
  ('Ana Popescu', 'ana@example.test', 1),
  ('John Doe', 'john@example.test', 2),
  ('Jane Roe', 'jane@example.test', 2),
  ('Mihai Ionescu', 'mihai@example.test', 3);
