from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class ErrorOut(BaseModel):
    """Every error answer of the API (app.core.handlers.error_response)."""

    detail: str
    request_id: str | None


class CourseOut(BaseModel):
    slug: str
    title: str
    version: int


class SummaryOut(BaseModel):
    course: str
    department_id: int | None
    assigned: int
    completed: int
    in_progress: int
    not_started: int
    overdue: int
    completion_rate: float
    average_best_score: float | None


class DepartmentOut(BaseModel):
    department_id: int
    name: str
    path: str
    assigned: int
    completed: int
    overdue: int
    completion_rate: float


class EmployeeOut(BaseModel):
    user_id: int
    name: str
    email: str | None
    department_id: int | None
    department: str | None
    status: str
    overdue: bool
    percent: int
    best_score: float | None
    attempts: int
    last_activity_at: datetime | None
    completed_at: datetime | None
    due_at: datetime | None


class EmployeePageOut(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[EmployeeOut]


class ItemOut(BaseModel):
    question_id: str
    prompt: str
    answered: int
    correct: int
    correct_rate: float
    top_wrong_answer: str | None
    top_wrong_count: int


class MisconceptionOut(BaseModel):
    key: str
    label: str
    count: int
    by_department: dict[str, int]
