"""Recipes: YAML files naming the components of a model and how to train and run it.

``load_recipe(path, overrides)`` reads a recipe with its ``extends`` chain, applies
``KEY=VALUE`` overrides, and validates every section and every component's config, raising
one :class:`voxcore.errors.RecipeError` that lists every problem. Recipes name registered
components only; nothing in a recipe is ever imported or executed.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from voxcore.recipe.loading import read_recipe
from voxcore.recipe.schema import ComponentSpec, DatasetSpec, Recipe
from voxcore.recipe.validation import BoundComponent, ResolvedRecipe, validate_recipe

__all__ = [
    "BoundComponent",
    "ComponentSpec",
    "DatasetSpec",
    "Recipe",
    "ResolvedRecipe",
    "load_recipe",
    "read_recipe",
    "validate_recipe",
]


def load_recipe(path: str | Path, overrides: Sequence[str] = ()) -> ResolvedRecipe:
    """Read, merge and validate a recipe file."""
    return validate_recipe(read_recipe(path, overrides), source=str(path))
