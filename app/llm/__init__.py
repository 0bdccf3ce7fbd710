"""Chat model backends behind one protocol: OpenAI-compatible, embedded local, scripted."""

from app.llm.base import ChatModel, ChatRequest, Message, ModelError

__all__ = ["ChatModel", "ChatRequest", "Message", "ModelError"]
