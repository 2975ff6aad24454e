"""Notifications: `notify:` routes of nocsoc.yaml deliver alerts and backbone events through
apprise (email, Telegram, Slack/Mattermost, webhooks, ...), deduplicated, rate limited, held
during quiet hours and spooled on disk until a channel accepts them."""
