from django.urls import include, path

from opportunities import views, views_board, views_detail

app_name = "opportunities"

urlpatterns = [
    path("board/", views_board.board, name="board"),
    path("board/column/<int:stage_id>/", views_board.board_column, name="board_column"),
    path("<int:pk>/", views_detail.opportunity_detail, name="detail"),
    path("<int:pk>/history/", views_detail.opportunity_history, name="history"),
    path("<int:pk>/move/", views_board.opportunity_move, name="move"),
    path("<int:pk>/activity/", views_detail.opportunity_activity, name="activity"),
    path("<int:pk>/close-date/", views_detail.opportunity_push_date, name="push_date"),
    path("<int:pk>/close/", views_detail.opportunity_close_view, name="close"),
    path("<int:pk>/reopen/", views_detail.opportunity_reopen_view, name="reopen"),
    path("<int:pk>/edit/", views_detail.opportunity_edit, name="edit"),
    path("attachments/<int:pk>/download/", views.attachment_download, name="attachment_download"),
    # The list, its exports and bulk actions, and the quick create form (views.py).
    path("", views.opportunity_list, name="list"),
    path("export.<str:fmt>", views.opportunity_export, name="export"),
    path("bulk/", views.opportunity_bulk, name="bulk"),
    path("new/", views.opportunity_new, name="create"),
    path("new/stages/", views.stage_options, name="stage_options"),
    path("imports/", include("opportunities.imports.urls")),
]
