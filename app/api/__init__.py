"""The HTTP layer: routers, request and response schemas, access and error mapping."""
