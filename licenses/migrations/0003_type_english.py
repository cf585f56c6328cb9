import licenses.models
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("licenses", "0002_licence_number_private"),
    ]

    operations = [
        migrations.AddField(
            model_name="licencetype",
            name="name_en",
            field=models.CharField(blank=True, max_length=200, verbose_name="name in English"),
        ),
        migrations.AlterField(
            model_name="licencetype",
            name="fields",
            field=models.JSONField(blank=True, default=list, help_text='A list of {"name": "class", "label": "准驾车型", "label_en": "Class", "personal": false}; {"name": "number", "personal": true} makes the licence number personal.', validators=[licenses.models.validate_field_schema], verbose_name="fields"),
        ),
    ]
