"""The interview domain: personas, the plan, prompts and the engine. No web, database or SDK."""
