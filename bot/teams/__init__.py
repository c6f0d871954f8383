"""Microsoft Teams: the Bot Framework SDK adapter, Adaptive Card rendering, proactive messages
and the app package. The only place that imports botbuilder."""
