"""CTAPHID packet transports: ``memory``, ``udp`` and ``hidapi``."""
