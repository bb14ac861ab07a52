"""The WeChat protocol and platform: signatures and crypto, XML, dedup of retries, the API client, a stand-in server."""
