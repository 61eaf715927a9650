"""The Slack edge and everything that writes to Slack: the HTTP edge (signature, size), the Bolt
app, text escaping (`text`: the only way untrusted strings become mrkdwn or links), Block Kit
helpers, posting and the outbox, pacing and channels.
"""
