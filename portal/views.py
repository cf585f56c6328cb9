from django.shortcuts import render

from ledger import selectors


def home(request):
    return render(request, "portal/home.html", {"head": selectors.tree_head(),
                                                "anchoring": selectors.anchoring_status()})
