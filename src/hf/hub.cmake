# Offline Hugging Face hub-cache resolution, shared by model loading and datasets.
heretic_component(heretic_hub SOURCES hub_cache.cpp DEPS heretic_common)
heretic_core_add(heretic_hub)
