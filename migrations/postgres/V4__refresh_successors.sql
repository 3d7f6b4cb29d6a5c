-- Which token a refresh replaced a token with. A refresh whose answer was lost (the client
-- crashed before saving the new token) presents the old token again; when its successor was
-- never used and the retry comes within a minute, that is a lost answer, not a stolen token.
ALTER TABLE refresh_tokens ADD COLUMN replaced_by uuid REFERENCES refresh_tokens (id) ON DELETE SET NULL;
