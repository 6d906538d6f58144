-- jit-access schema version 1: access requests.
-- Statements are separated by semicolons at the end of a line; comments are whole lines.
CREATE TABLE jit_access_request (
  id                      VARCHAR(64)              NOT NULL PRIMARY KEY,
  requester_id            VARCHAR(1024)            NOT NULL,
  requester               TEXT                     NOT NULL,
  cluster                 VARCHAR(63)              NOT NULL,
  roles                   TEXT                     NOT NULL,
  permissions             TEXT                     NOT NULL,
  duration                VARCHAR(64)              NOT NULL,
  justification           TEXT                     NOT NULL,
  created_at              TIMESTAMP WITH TIME ZONE NOT NULL,
  expires_at              TIMESTAMP WITH TIME ZONE NOT NULL,
  required_approvals      INTEGER                  NOT NULL,
  status                  VARCHAR(16)              NOT NULL,
  reviews                 TEXT                     NOT NULL,
  activated_at            TIMESTAMP WITH TIME ZONE,
  active_until            TIMESTAMP WITH TIME ZONE,
  extensions              INTEGER                  NOT NULL,
  extension_justification TEXT,
  expiry_notified         BOOLEAN                  NOT NULL,
  version                 BIGINT                   NOT NULL
);
CREATE INDEX jit_access_request_requester ON jit_access_request (requester_id);
CREATE INDEX jit_access_request_status ON jit_access_request (status);
