-- A Slack or webhook notification tells a whole group: delivery audits it with one record per alert, all under the
-- group's notification id, attempt, outcome and time. Without the fingerprint in the key those records merged into
-- one row, and "why was I not paged" (a query by fingerprint) missed every alert of the group but one.
ALTER TABLE notification DROP CONSTRAINT notification_pkey;
ALTER TABLE notification ADD PRIMARY KEY (notification_id, fingerprint, attempt, outcome, decided_at);
