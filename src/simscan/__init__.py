"""simscan: a content filter that qmail-smtpd runs as $QMAILQUEUE."""

__version__ = "0.1.0"
